"""Flask extension objects, created unbound and initialised by the application factory."""

from __future__ import annotations

from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from huey import Huey
from huey.storage import MemoryStorage

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
bootstrap = Bootstrap5()
# The grading queue. Its storage is chosen once per process, by the first app the factory builds
# or explicitly by the worker (SQLite in instance/ by default, Redis at scale: webapp.jobs); until
# then it holds jobs in memory, so importing this module does no I/O.
queue = Huey("skillforge", results=False, storage_class=MemoryStorage)
