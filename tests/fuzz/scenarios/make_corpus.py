#!/usr/bin/env python3
"""Regenerates corpus/ of the scenarios/ fuzz targets from JSON seeds.

usage: make_corpus.py 'CONVERT {json} {mp}'

CONVERT turns a JSON view into its .mp file, e.g.
  'aiotest-convert --from-json {json} -o {mp}'
Seeds: the JSON examples of docs/file-formats.md, scenarios/examples/shop.json
and seeds/*.json here. Each .mp is kept whole and cut at a few points; each JSON
is kept whole and cut. The fuzz driver adds its own mutations at test time.
"""
import os, re, subprocess, sys, tempfile, shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))


def seeds():
    doc = open(os.path.join(ROOT, 'docs', 'file-formats.md')).read()
    out = {'doc%d' % i: b for i, b in enumerate(re.findall(r'```json\n(.*?)```', doc, re.S))}
    out['shop'] = open(os.path.join(ROOT, 'scenarios', 'examples', 'shop.json')).read()
    sd = os.path.join(HERE, 'seeds')
    for f in sorted(os.listdir(sd)):
        if f.endswith('.json'):
            out[f[:-5]] = open(os.path.join(sd, f)).read()
    return out


def raw_seeds():
    """seeds/*.mp that no converter would write (newer versions, garbage)."""
    sd = os.path.join(HERE, 'seeds')
    for f in sorted(os.listdir(sd)):
        if f.endswith('.mp'):
            yield ('recording' if f.startswith('rec') else 'scenario'), f, open(os.path.join(sd, f), 'rb').read()


def cuts(data, n=4):
    return [data[:len(data) * k // (n + 1)] for k in range(1, n + 1)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tmp = tempfile.mkdtemp()
    for t in ('recording', 'scenario', 'view'):
        d = os.path.join(HERE, 'corpus', t)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, text in seeds().items():
        j = os.path.join(tmp, name + '.json')
        m = os.path.join(tmp, name + '.mp')
        open(j, 'w').write(text)
        files = {'view': [(name, text.encode())] + [('%s-cut%d' % (name, i), c) for i, c in enumerate(cuts(text.encode(), 2))]}
        if subprocess.call(sys.argv[1].format(json=j, mp=m), shell=True) == 0:
            mp = open(m, 'rb').read()
            kind = 'recording' if b'aiotest-recording' in mp[:40] else 'scenario'
            files[kind] = [(name, mp)] + [('%s-cut%d' % (name, i), c) for i, c in enumerate(cuts(mp))]
        for t, items in files.items():
            for n, data in items:
                open(os.path.join(HERE, 'corpus', t, n + ('.json' if t == 'view' else '.mp')), 'wb').write(data)
    for t, f, data in raw_seeds():
        open(os.path.join(HERE, 'corpus', t, f), 'wb').write(data)
    shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
