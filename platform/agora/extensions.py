"""Flask extensions, created unbound and attached to the app in :func:`agora.app.build_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from agora.db import Base
from agora.replica import RoutingSession

db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
# Limits are declared on the views that need them (sign-in, votes); storage: Redis or memory.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
