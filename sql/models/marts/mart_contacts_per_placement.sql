-- Effort per placement by month: items sent, reminders, calls and placements; each per placement.
with items as (
    select * from {{ ref('fct_inquiry_items') }}
),

inquiries as (
    select * from {{ ref('stg_inquiries') }}
),

calls as (
    select * from {{ ref('stg_phone_calls') }}
),

spells as (
    select * from {{ ref('fct_search_spells') }}
),

months as (
    select cast(date_trunc('month', sent_at) as date) as month, count(*) as items_sent,
        count(distinct inquiry_id) as inquiries_sent
    from items where sent_at is not null group by 1
),

reminders as (
    select cast(date_trunc('month', reminded_at) as date) as month, count(*) as reminders
    from inquiries where reminded_at is not null group by 1
),

calls_done as (
    select cast(date_trunc('month', coalesce(done_at, scheduled_for)) as date) as month, count(*) as calls
    from calls where status in ('done', 'failed') group by 1
),

placed as (
    select cast(date_trunc('month', placed_on) as date) as month, count(*) as placements
    from spells where is_placed group by 1
),

final as (
    select
        months.month,
        months.inquiries_sent,
        months.items_sent,
        coalesce(reminders.reminders, 0) as reminders,
        coalesce(calls_done.calls, 0) as calls,
        coalesce(placed.placements, 0) as placements,
        months.inquiries_sent * 1.0 / nullif(placed.placements, 0) as inquiries_per_placement,
        coalesce(reminders.reminders, 0) * 1.0 / nullif(placed.placements, 0) as reminders_per_placement,
        coalesce(calls_done.calls, 0) * 1.0 / nullif(placed.placements, 0) as calls_per_placement
    from months
    left join reminders on reminders.month = months.month
    left join calls_done on calls_done.month = months.month
    left join placed on placed.month = months.month
)

select * from final
