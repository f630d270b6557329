# Locust peer for bench/run: FastHttpUser, GET / in a loop with no think time
# (the same work as wrk and the plain-GET scenario). Run headless, one process.
from locust import FastHttpUser, constant, task


class PlainGet(FastHttpUser):
    wait_time = constant(0)

    @task
    def get_root(self):
        self.client.get("/", name="GET /")
