-- Staff work by week: median days from proposal to approval, calls per answered inquiry, and answers
-- typed in by staff against answers given through the therapists' link.
with items as (
    select * from {{ ref('fct_inquiry_items') }}
),

calls as (
    select * from {{ ref('stg_phone_calls') }}
),

approvals as (
    select cast(date_trunc('week', approved_at) as date) as week_start,
        count(distinct inquiry_id) as inquiries_approved,
        percentile_cont(0.5) within group (order by {{ seconds_between('approved_at', 'proposed_at') }} / 86400.0)
            as median_days_to_approval
    from items where approved_at is not null group by 1
),

answers as (
    select cast(date_trunc('week', answered_at) as date) as week_start,
        count(distinct inquiry_id) as inquiries_answered,
        sum(case when answer_source = 'link' then 1 else 0 end) as answers_by_link,
        sum(case when answer_source in ('staff', 'phone', 'email') then 1 else 0 end) as answers_by_staff
    from items where answered_at is not null group by 1
),

calls_made as (
    select cast(date_trunc('week', coalesce(done_at, scheduled_for)) as date) as week_start, count(*) as calls
    from calls where status in ('done', 'failed') group by 1
),

weeks as (
    select week_start from approvals
    union
    select week_start from answers
    union
    select week_start from calls_made
),

final as (
    select
        weeks.week_start,
        coalesce(approvals.inquiries_approved, 0) as inquiries_approved,
        approvals.median_days_to_approval,
        coalesce(answers.inquiries_answered, 0) as inquiries_answered,
        coalesce(calls_made.calls, 0) as calls,
        coalesce(calls_made.calls, 0) * 1.0 / nullif(answers.inquiries_answered, 0) as calls_per_answer,
        coalesce(answers.answers_by_link, 0) as answers_by_link,
        coalesce(answers.answers_by_staff, 0) as answers_by_staff
    from weeks
    left join approvals on approvals.week_start = weeks.week_start
    left join answers on answers.week_start = weeks.week_start
    left join calls_made on calls_made.week_start = weeks.week_start
)

select * from final
