import os

# AppTest runs the pages in this process: their jobs run inline, in the calling thread. Servers that
# tests start (tests/servers.py) get the default worker processes.
os.environ["BACKPROP_LAB_WORKERS"] = "0"

import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

torch.set_num_threads(1)
settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
