-- staging_blb_update: change staged league rows in place (the old API's PUT /api/staging/blb-tables/update).
-- Open to signed-in users like the other staging kinds.
insert into public.job_kinds (kind, description, exclusive_group, user_allowed) values
    ('staging_blb_update', 'update matching rows of a staged league table', null, true)
on conflict (kind) do nothing;
