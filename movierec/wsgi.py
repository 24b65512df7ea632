"""WSGI entry point (gunicorn movierec.wsgi).

Web processes run numerical code (a viewer's least-squares solve, scoring the catalogue) on
small matrices, one request at a time per process; parallelism comes from the processes.
A multi-threaded BLAS there only waits for its own threads: on a busy 2-core host an
uncached recommendation took 856 ms with OpenBLAS's default threads and 72 ms with one
(``python -m bench.profile recommendations-uncached``). So BLAS gets one thread per web
process unless the environment says otherwise; set before numpy loads. Training (the ml
Celery worker) is not affected.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.local")
application = get_wsgi_application()
