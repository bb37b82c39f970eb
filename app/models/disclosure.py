"""Information disclosure: what the company must publish (standard → category → item) and every
version it has published, kept for good.

The taxonomy is data: an administrator edits standards, categories (with their periodicity and
deadline) and items; `app/data/disclosure_taxonomy.json` seeds it. A document is never deleted: a
newer version marks the previous one replaced (it stays at its URL in the archive), and a withdrawn
one is marked withdrawn with the reason.
"""
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.models.users import StaffGroup, User

ONCE, YEARLY, HALF_YEARLY, QUARTERLY, MONTHLY, ON_CHANGE = \
    "once", "yearly", "half_yearly", "quarterly", "monthly", "on_change"
PERIODICITIES = (ONCE, YEARLY, HALF_YEARLY, QUARTERLY, MONTHLY, ON_CHANGE)
# Items whose content the portal makes itself from its own tables.
GENERATORS = ("tariffs", "tp_stats", "free_capacity")


class DisclosureStandard(db.Model):
    """A regulation that says what to publish: ПП 24 for electricity, the heat-supply standards…"""

    __tablename__ = "disclosure_standard"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # in URLs: /disclosure/<code>/
    title_ru: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    act_ru: Mapped[str] = mapped_column(String(300), default="")  # the act itself, as cited
    act_en: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)

    categories: Mapped[list["DisclosureCategory"]] = relationship(
        back_populates="standard", order_by="(DisclosureCategory.position, DisclosureCategory.id)")


class DisclosureCategory(db.Model):
    """What the act asks for, how often, and by when: the due date is the end of the period the
    publication covers plus `due_days` (for "on change", the change plus `due_days`)."""

    __tablename__ = "disclosure_category"
    __table_args__ = (UniqueConstraint("standard_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("disclosure_standard.id"))
    code: Mapped[str] = mapped_column(String(60))
    clause: Mapped[str] = mapped_column(String(60), default="")  # the act's paragraph: "п. 11 «б»"
    title_ru: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    periodicity: Mapped[str] = mapped_column(String(12))
    due_days: Mapped[int] = mapped_column(default=30)
    # Who may publish here: administrators, and the staff of this group. Nobody else.
    publisher_group_id: Mapped[int | None] = mapped_column(ForeignKey("staff_group.id", ondelete="SET NULL"))
    # Who is reminded of the deadline.
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    standard: Mapped[DisclosureStandard] = relationship(back_populates="categories")
    publisher_group: Mapped[StaffGroup | None] = relationship()
    responsible: Mapped[User | None] = relationship()
    items: Mapped[list["DisclosureItem"]] = relationship(
        back_populates="category", order_by="(DisclosureItem.position, DisclosureItem.id)")


class DisclosureItem(db.Model):
    """One thing published in a category (a form of contract, the year's statements…), in versions.

    `revision` counts publications: an upload names the revision it saw, and a guarded UPDATE lets
    exactly one of two simultaneous uploads through.
    """

    __tablename__ = "disclosure_item"
    __table_args__ = (UniqueConstraint("category_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("disclosure_category.id"))
    code: Mapped[str] = mapped_column(String(60))
    title_ru: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    generator: Mapped[str | None] = mapped_column(String(20))  # one of GENERATORS, or None for uploads
    position: Mapped[int] = mapped_column(default=0)
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    category: Mapped[DisclosureCategory] = relationship(back_populates="items")


class DisclosureDocument(db.Model):
    """A published version of an item: the file (by SHA-256 in the file store), its regulatory
    period, who published it and when, and — once superseded or withdrawn — when and why."""

    __tablename__ = "disclosure_document"
    __table_args__ = (
        UniqueConstraint("item_id", "version"),
        Index("ix_disclosure_document_current", "item_id", "replaced_at"),
        Index("ix_disclosure_document_published", "published_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("disclosure_item.id"))
    version: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    # The regulatory period covered: "2026", "2026-H1", "2026-Q3", "2026-10", or none (once, on change).
    period: Mapped[str | None] = mapped_column(String(10))
    period_end: Mapped[object | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column()
    # The text for search (extracted from the file, lower-cased, "ё" as "е"); deferred: pages never need it.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    published_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    replaced_at: Mapped[object | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[object | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withdraw_reason: Mapped[str] = mapped_column(String(500), default="")

    item: Mapped[DisclosureItem] = relationship()
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None and self.withdrawn_at is None


class DisclosureReminder(db.Model):
    """A deadline letter sent, so that each (category, period, kind) is written about once."""

    __tablename__ = "disclosure_reminder"
    __table_args__ = (UniqueConstraint("category_id", "period", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("disclosure_category.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))  # the period's code, or the due date for "once"
    kind: Mapped[str] = mapped_column(String(10))  # soon | overdue
    sent_to: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


class SubstationCapacity(db.Model):
    """Free transformer capacity of a substation at a voltage level, as operators keep it; the
    disclosure page publishes the latest row per substation and level."""

    __tablename__ = "substation_capacity"
    __table_args__ = (UniqueConstraint("substation", "voltage"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    substation: Mapped[str] = mapped_column(String(120))  # "ПС 110/10 кВ «Северная»"
    voltage: Mapped[str] = mapped_column(String(20))  # "110/10 кВ"
    installed_mva: Mapped[object] = mapped_column(db.Numeric(10, 3))
    max_load_mva: Mapped[object] = mapped_column(db.Numeric(10, 3))
    reserved_mva: Mapped[object] = mapped_column(db.Numeric(10, 3), default=0)  # by contracts not yet built
    free_mva: Mapped[object] = mapped_column(db.Numeric(10, 3))
    note: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
