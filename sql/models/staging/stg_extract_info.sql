-- The extraction itself: its day and PostgreSQL's row count per source, in the same snapshot as the files.
with source as (
    select * from {{ source('raw', 'extract_info') }}
),

final as (
    select
        source,
        cast(pg_rows as bigint) as pg_rows,
        cast(extracted_on as date) as extracted_on
    from source
)

select * from final
