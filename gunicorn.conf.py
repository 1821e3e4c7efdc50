"""gunicorn's settings for the portal. gunicorn reads this file from the directory it starts in; flags
given on its command line still win.

Python's cycle collector walks every object it tracks, and a loaded portal holds some 170,000 (modules,
the models' SQL constructs, compiled templates). A page allocates thousands of short-lived objects (ORM
rows, SQL statements, template output), so every few pages a collection ran, and now and then a full one
walked everything: 50–150 ms on a request that needs 40. Once a worker has loaded the app, what it
loaded is frozen (left out of every collection: it lives as long as the worker anyway), and a collection
waits for more new objects. The benchmark (bench/run.py) serves the portal with these settings.
"""
import gc

# A young collection after 20,000 new objects instead of 700; older ones as often relative to it.
COLLECT_AFTER = (20_000, 50, 100)


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECT_AFTER)
