#!/usr/bin/env python3
"""causeway's test launcher for OpenStack Mistral 23: API, engine, local executor and local
notifier in one process, talking over oslo.messaging's in-process ``fake:/`` transport, with a
SQLite database and no Keystone.

``mistral-server --server all`` cannot be used with ``fake:/``: it forks a process per component
and the fake transport only reaches its own process. Alembic's migrations do not run on SQLite,
so the schema comes from ``setup_db()`` (``metadata.create_all``), as in Mistral's unit tests;
then the standard actions and workflows are loaded as ``mistral-db-manage populate`` would.

    python single.py --config-file WORKDIR/mistral.conf

Prints ``MISTRAL_READY <url>`` once the API listens; SIGTERM or SIGINT stops it.
"""

import os
import signal
import sys
import threading

import mistral  # noqa: F401  (picks oslo.service's threading backend before anything else)
from mistral import config
from oslo_config import cfg
from oslo_log import log

CONF = cfg.CONF


def serve(argv):
    config.parse_args(argv)
    log.setup(CONF, "mistral")
    if CONF.executor.type != "local" or CONF.notifier.type != "local":
        print("single.py needs [executor] and [notifier] type = local", file=sys.stderr)
        return 2

    # These read the configuration when imported.
    from mistral.api import service as api_service
    from mistral.db.v2 import api as db
    from mistral.engine import engine_server
    from mistral.rpc import base as rpc
    from mistral.services import action_manager, workflows

    rpc.get_transport()
    db.setup_db()
    action_manager.sync_db()
    workflows.sync_db()

    engine = engine_server.get_oslo_service()
    engine.start()
    api = api_service.WSGIService("mistral_api")
    # cheroot's defaults (10 threads, a backlog of 5) reset connections under a burst.
    api.server.requests.min = int(os.environ.get("MISTRAL_API_THREADS", "32"))
    api.server.request_queue_size = int(os.environ.get("MISTRAL_API_BACKLOG", "128"))
    api.start()
    print(f"MISTRAL_READY http://{CONF.api.host}:{CONF.api.port}", flush=True)

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        pass
    for stop in (api.stop, lambda: engine.stop(graceful=False)):
        try:
            stop()
        except Exception as e:  # noqa: BLE001  (stopping anyway)
            print(f"while stopping: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    code = serve(sys.argv[1:])
    sys.stdout.flush()
    # The scheduler's and RPC's non-daemon threads would keep the process alive.
    os._exit(code)
