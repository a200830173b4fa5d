-- Who may read the warehouse and staging tables through Supabase's APIs (PostgREST, Realtime).
-- On Supabase, new tables in public are open to anon and authenticated by default privileges; here:
-- - staging tables and the load log: the daemon only (RLS on, no policies; service_role bypasses RLS);
-- - warehouse tables (dim_*, fact_*, qa_*): read-only for anon and authenticated, the league's public stats.
--   They are created by the upload job; etl/schema_sql.py gives every one of them the same read-only access
--   (see warehouse_read_only below), so this migration only sets up the function and the fixed tables.

do $$
declare
    t text;
begin
    foreach t in array array['stage_tracking_files', 'stage_events', 'stage_event_players', 'stage_shifts',
                             'stage_shift_players', 'warehouse_loads']
    loop
        execute format('alter table public.%I enable row level security', t);
        execute format('revoke all on public.%I from anon, authenticated', t);
        execute format('grant all on public.%I to service_role', t);
    end loop;
end;
$$;

-- Gives a table the warehouse's access rules: RLS on, select for anon and authenticated, no writes.
-- Called for every warehouse table the upload job creates and for every stage_<sheet> table (read_by_clients
-- false), so rules live in one place.
create or replace function public.warehouse_access(target regclass, read_by_clients boolean) returns void
language plpgsql as $$
begin
    execute format('alter table %s enable row level security', target);
    execute format('revoke all on %s from anon, authenticated', target);
    execute format('grant all on %s to service_role', target);
    if read_by_clients then
        execute format('grant select on %s to anon, authenticated', target);
        if not exists (select 1 from pg_policy p
                       where p.polrelid = target and p.polname = 'warehouse is public to read') then
            execute format('create policy "warehouse is public to read" on %s for select to anon, authenticated '
                           'using (true)', target);
        end if;
    end if;
end;
$$;

revoke all on function public.warehouse_access(regclass, boolean) from public, anon, authenticated;
grant execute on function public.warehouse_access(regclass, boolean) to service_role;
