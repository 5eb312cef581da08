"""The reporting warehouse: a pseudonymised Parquet snapshot of PostgreSQL, and DuckDB marts built by dbt.

    extract (PostgreSQL -> Parquet, pseudonymised on the way out)   core.warehouse.extract
    build   (dbt models in sql/ -> one DuckDB file, checks, publish)  core.warehouse.build
    read    (a read-only DuckDB connection to the published build)    core.warehouse.read

Pages, notebooks and analysts only ever see the published build; they never open PostgreSQL.
"""
