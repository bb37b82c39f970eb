"""Groups of meters the operator looks at together: a feeder, a substation or any list. A feeder or
substation may name the meter at its head (the input), so that its balance shows the losses: what
came in minus what the members used."""
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.metering import Meter
from app.models.types import UTCDateTime, utcnow

GROUP_KINDS = ("feeder", "substation", "list")


class MeterGroup(db.Model):
    __tablename__ = "meter_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # feeder | substation | list
    input_meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    input_meter: Mapped[Meter | None] = relationship()
    members: Mapped[list["MeterGroupMember"]] = relationship(back_populates="group", cascade="all, delete-orphan",
                                                             passive_deletes=True)


class MeterGroupMember(db.Model):
    __tablename__ = "meter_group_member"
    __table_args__ = (UniqueConstraint("group_id", "meter_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("meter_group.id", ondelete="CASCADE"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), index=True)

    group: Mapped[MeterGroup] = relationship(back_populates="members")
    meter: Mapped[Meter] = relationship()
