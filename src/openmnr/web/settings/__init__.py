"""OpenMNR settings: the one place configuration is read, always from the environment.

Production is the default. The local demo's settings (a generated SECRET_KEY, OPENMNR_DEBUG=1,
OPENMNR_HTTPS=0) are in var/local.env, which `make run` writes and which is read here when it
exists, the environment taking precedence; nothing else turns the safeguards off. Every variable
is listed in docs/configuration.md.

One module per section (``base`` for the platform itself, then one per app), read in this order;
a later module may use what an earlier one set. DJANGO_SETTINGS_MODULE stays ``openmnr.web.settings``.
"""

from .assessment import *  # noqa: F403
from .banks import *  # noqa: F403
from .base import *  # noqa: F403
from .env import env_bool, env_int, env_list, read_local_settings  # noqa: F401
from .exchange import *  # noqa: F403
from .hotline import *  # noqa: F403
from .industry import *  # noqa: F403
from .live import *  # noqa: F403
from .survivors import *  # noqa: F403
from .takedown import *  # noqa: F403
