"""Every foreign key has an index on its columns, so deleting or updating a referenced row never scans.

Without one, each deleted inquiry item scans ``placement`` for its ``inquiry_item_id`` (ON DELETE SET NULL):
the nightly matching run's ``delete_unreviewed`` spent over 2 s on 5,851 items that way (issue 13).
"""

from sqlalchemy import text

# A foreign key is covered when its columns are the leading columns of some index, in any order among them.
UNINDEXED_FOREIGN_KEYS = text(
    """
    SELECT c.conrelid::regclass::text AS table_name, c.conname,
           array_agg(a.attname ORDER BY k.ord)::text[] AS columns
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
      AND NOT EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = c.conrelid
          AND (
            SELECT array_agg(x ORDER BY x)
            FROM unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) AS x
          ) = (SELECT array_agg(x ORDER BY x) FROM unnest(c.conkey) AS x)
      )
    GROUP BY c.conrelid, c.conname
    ORDER BY 1, 2
    """
)


def test_schema__every_foreign_key_has_an_index(engine):
    with engine.connect() as conn:
        rows = conn.execute(UNINDEXED_FOREIGN_KEYS).all()
    missing = [f"{r.table_name}({', '.join(r.columns)}) [{r.conname}]" for r in rows]
    assert missing == [], "foreign keys without an index on their columns:\n" + "\n".join(missing)


def test_schema__the_index_check_sees_a_foreign_key_without_an_index(session):
    session.execute(text("CREATE TABLE fk_probe (id int PRIMARY KEY, inquiry_id int REFERENCES inquiry (id))"))
    found = {r.table_name for r in session.execute(UNINDEXED_FOREIGN_KEYS)}
    assert "fk_probe" in found
    session.execute(text("CREATE INDEX ix_fk_probe_inquiry_id ON fk_probe (inquiry_id)"))
    assert "fk_probe" not in {r.table_name for r in session.execute(UNINDEXED_FOREIGN_KEYS)}
