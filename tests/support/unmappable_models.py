"""A model whose relationship names a class that does not exist (imported only by scheduler subprocesses)."""

from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base


class Unmappable(Base):
    __tablename__ = "unmappable"
    id: Mapped[int] = mapped_column(primary_key=True)
    ghost = relationship("NoSuchModel")
