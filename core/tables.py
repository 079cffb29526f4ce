"""Every table of every feature, imported once so that SQLModel's metadata knows them all
(for Alembic, `create_all` in tests and the schema check). Code imports a table from its
feature's `models` module, not from here."""

from core.cases import models as cases
from core.chat import models as chat
from core.digests import models as digests
from core.evaluations import models as evaluations
from core.masterdata import models as masterdata
from core.outbox import models as outbox
from core.people import models as people
from core.surveys import models as surveys
from core.transparency import models as transparency  # noqa: F401

FEATURES = (masterdata, people, surveys, chat, cases, outbox, evaluations, digests)
