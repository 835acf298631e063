"""Default configuration: plain values only, no I/O (the factory resolves paths and secrets)."""

from __future__ import annotations

# Database: None means "SQLite file in the instance folder", resolved by the factory.
SQLALCHEMY_DATABASE_URI: str | None = None
SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}

# Sessions and cookies.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

# Password hashing cost: an argon2-cffi profile name (tests use CHEAPEST).
PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"  # noqa: S105 (a profile name)

# Forms.
WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

# Uploads: notebooks and CSV files.
MAX_CONTENT_LENGTH = 5 * 1024 * 1024
# CSV imports (a roster, staffing files) may be larger: 100,000 roster rows are about 6 MB.
IMPORT_MAX_BYTES = 64 * 1024 * 1024
# The address people open Skillforge at, for links made outside a request (the command line).
BASE_URL = "http://127.0.0.1:5000"
# How long the invitation a roster import gives each new person works (they choose a password).
INVITATION_MAX_AGE_S = 14 * 24 * 3600

# Bounds on every notebook that enters the app (an upload, the editors' answers and autosave, a
# live kernel's cell, a course notebook at catalog sync): cells per notebook, bytes of one cell's
# source (UTF-8) and of one output (as JSON), and JSON nesting depth. Beyond them a notebook is
# refused with a message saying which cell and what to do, before anything slow reads it.
NOTEBOOK_MAX_CELLS = 1000
NOTEBOOK_MAX_SOURCE_BYTES = 100_000
NOTEBOOK_MAX_OUTPUT_BYTES = 1_000_000
NOTEBOOK_MAX_DEPTH = 64
# Rendering a notebook to HTML (on the first view of each version or graded attempt): one larger
# than RENDER_MAX_BYTES (as JSON), or whose render uses more than RENDER_TIME_LIMIT_S seconds of
# CPU time (in a child process, which is then stopped; a busy machine's waiting does not count),
# is shown as "too large to display" with a download link.
RENDER_MAX_BYTES = 5_000_000
RENDER_TIME_LIMIT_S = 20.0

# Rate limiting (Flask-Limiter): counted in Redis when REDIS_URL is set (shared by every
# machine), else in instance/ratelimits.sqlite3, which every process of this machine shares
# (webapp/web/ratelimit_store.py). "memory://" counts per process.
RATELIMIT_STORAGE_URI: str | None = None
# With Redis as the store (REDIS_URL), a Redis outage falls back to this process's memory (a
# warning in the log) instead of failing every request; Redis is used again once it answers.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_HEADERS_ENABLED = True
LOGIN_RATE_LIMIT = "5 per minute;30 per hour"
# Per signed-in user (else per address), on the POSTs that cost the server work.
SUBMIT_RATE_LIMIT = "10 per minute;120 per hour"
UPLOAD_RATE_LIMIT = "10 per minute;60 per hour"
AUTOSAVE_RATE_LIMIT = "60 per minute"
IMPORT_RATE_LIMIT = "10 per minute;60 per hour"
TOKEN_RATE_LIMIT = "10 per hour"  # noqa: S105 - a rate, not a secret

# Redis, for rate limits and grading workers at scale.
REDIS_URL: str | None = None

# Static assets come from installed packages (Bootstrap-Flask), never another origin.
BOOTSTRAP_SERVE_LOCAL = True
BOOTSTRAP_BTN_STYLE = "primary"

# Where workshop sources live; None means the repository's courses/ folder.
COURSES_PATH: str | None = None

# Where rendered notebooks are cached by content hash; None means instance/render-cache.
RENDER_CACHE_PATH: str | None = None

# Housekeeping (a daily job, and `skillforge housekeeping`): practice runs ("Run tests") kept this
# many days; ended sign-in sessions and quiet login throttles; rendered notebooks not opened for
# this long; finished CSV imports. 0 keeps that kind for ever. Submitted attempts are never pruned.
RETENTION_PRACTICE_DAYS = 90
RETENTION_SESSIONS_DAYS = 30
RETENTION_RENDER_DAYS = 30
RETENTION_IMPORTS_DAYS = 30  # finished CSV imports: the uploaded file, its preview and links

# Privacy: managers see team aggregates only for groups at least this large.
MIN_AGGREGATE_GROUP = 3

# Skill estimates: evidence confidence halves every ESTIMATE_HALF_LIFE_DAYS; verified skills older
# than REVERIFY_AFTER_DAYS are "due for re-verification"; a skill a project needs is a bus-factor
# risk when fewer than BUS_FACTOR_MIN engineers hold it verified.
ESTIMATE_HALF_LIFE_DAYS = 365.0
REVERIFY_AFTER_DAYS = 540
BUS_FACTOR_MIN = 2

# The grading queue (Huey): None means a SQLite file in instance/, or Redis when REDIS_URL is set;
# "redis://…" or "sqlite:///path" choose explicitly.
QUEUE_URL: str | None = None
# Grading workers (threads per `flask worker` process) and the sandbox.
GRADER_WORKERS = 2
GRADER_KERNEL_PYTHON = "/opt/skillforge/kernel/bin/python"
GRADER_CELL_TIMEOUT = 30
GRADER_NOTEBOOK_TIMEOUT = 600
GRADER_MEMORY_MB = 2048
GRADER_WARM_UP = None  # code each pool kernel runs while it waits; None: the grader's default
GRADER_POOL_SIZE = 8  # warm kernels per worker process: 2 per submission, 2 per grading thread
# Refuse to grade without a sandbox unless this is set (logged loudly, shown on the admin page).
GRADER_ALLOW_UNSANDBOXED = False
# A running job whose worker went silent this long is run again (seconds).
GRADER_LEASE_S = 900
# On SIGTERM a worker takes no new job and gives the running ones this long to finish; what is
# still running then is handed back to the queue at once (another worker takes it), not after
# the lease. Keep it below your supervisor's stop timeout (Kubernetes 30 s, systemd 90 s).
GRADER_SHUTDOWN_S = 20
# Worked examples: the outputs of a notebook's locked cells, made in the grading sandbox when the
# catalog is synced, are shown on its page when they fit in this many bytes (as JSON).
WORKED_OUTPUTS_MAX_BYTES = 3_000_000
# Live kernels (run cells on the notebook page): the kernel hosts (Jupyter Kernel Gateway processes
# started by `skillforge kernels host`; `skillforge serve` starts the first one itself when it is on
# this machine), the token they share with the app (None: derived from SECRET_KEY), limits, and the
# idle time after which a host stops a kernel.
LIVE_KERNEL_HOSTS = ["http://127.0.0.1:8890"]
LIVE_KERNEL_TOKEN: str | None = None
LIVE_KERNELS_PER_ENGINEER = 3
LIVE_KERNELS_PER_HOST = 50
LIVE_POOL_SIZE = 2  # warm kernels each host keeps waiting
LIVE_IDLE_MINUTES = 30
LIVE_CELL_MAX_S = 600  # one request streams a cell's output this long at most
LIVE_MEMORY_MB = 2048
LIVE_WARM_UP: str | None = None  # code a waiting kernel runs; None: numpy, pandas, matplotlib
# "Run tests" is a practice run: graded, not counted. So that the grader is no oracle to query at
# will, an engineer has one in flight per notebook and at most this many in any rolling hour
# (counted in the database, so the limit holds across web workers); Submit is not limited.
PRACTICE_RUNS_PER_HOUR = 10

# Staffing plans: learning time per engineer, the cost of a slot left empty (in training-hour
# equivalents, times the requirement's importance), and the optimiser's budget per web request.
LEARNING_HOURS_PER_WEEK = 4.0
UNFILLED_PENALTY_HOURS = 40.0
PLAN_TIME_LIMIT_S = 10.0
PLAN_MIP_GAP = 0.01
PLAN_WHAT_IF_TIME_LIMIT_S = 2.0

# How long an admin's password reset link works (seconds); it also stops once used.
PASSWORD_RESET_MAX_AGE_S = 24 * 60 * 60

# Login back-off (per account and per client address, shared by every process through the
# database): failures in a row before any delay, then 1 s, 2 s, 4 s, … up to the maximum.
LOGIN_BACKOFF_FREE_FAILURES = 5
LOGIN_BACKOFF_BASE_S = 1
LOGIN_BACKOFF_MAX_S = 900
# How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (werkzeug's
# ProxyFix trusts that many hops). 0: the client address is the connection's, headers ignored.
TRUSTED_PROXIES = 0
