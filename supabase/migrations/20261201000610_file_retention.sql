-- Retention for the file store (the second half of 20261201000600_retention.sql, now that files live in the
-- database): ETL runs past the completed-job retention go, except the newest keep_etl_runs; then file versions
-- older than their retention that nothing references (a current input, a pin, the newest of a slot, a kept ETL
-- run, an active job),
-- and the bytes of files left without a version or run. Batched like prune_jobs: call until it returns zero.

create index if not exists etl_runs_output_idx on public.etl_runs (output_sha256);

create or replace function public.prune_files(
    older_than interval, batch integer default 1000, keep_etl_runs integer default 20
) returns table (runs integer, versions integer, files integer)
language plpgsql as $$
declare
    n_runs integer := 0;
    n_versions integer := 0;
    n_files integer := 0;
begin
    if coalesce(older_than, interval '0') <= interval '0' then
        return query select 0, 0, 0;
        return;
    end if;
    with doomed as (
        select r.id from public.etl_runs r
        where r.started_at < now() - older_than
          and r.id not in (select k.id from public.etl_runs k order by k.started_at desc, k.id desc
                           limit greatest(coalesce(keep_etl_runs, 0), 0))
        order by r.started_at limit greatest(batch, 1)
        for update skip locked
    ), gone as (delete from public.etl_runs r using doomed d where r.id = d.id returning 1)
    select count(*) into n_runs from gone;

    with doomed as (
        select v.id from public.file_versions v
        where v.uploaded_at < now() - older_than
          and not exists (select 1 from public.current_inputs() c where c.version_id = v.id)
          and not exists (select 1 from public.input_pins p where p.version_id = v.id)
          -- the newest upload of a slot stays too (it is current again when a pin is removed)
          and (v.role not in ('league_workbook', 'tracker') or exists (
                select 1 from public.file_versions n
                where n.role = v.role and n.game_id is not distinct from v.game_id
                  and n.format is not distinct from v.format and (n.uploaded_at, n.id) > (v.uploaded_at, v.id)))
          and not exists (select 1 from public.etl_runs r where r.output_sha256 = v.sha256)
          and not exists (select 1 from public.etl_runs r
                          where r.inputs @> jsonb_build_array(jsonb_build_object('version_id', v.id)))
          and not exists (select 1 from public.job_requests j
                          where j.status in ('pending', 'running', 'processing', 'uploading')
                            and j.params ->> 'sha256' = v.sha256)
        order by v.uploaded_at limit greatest(batch, 1)
        for update skip locked
    ), gone as (delete from public.file_versions v using doomed d where v.id = d.id returning 1)
    select count(*) into n_versions from gone;

    with doomed as (
        select f.sha256 from public.files f
        where f.created_at < now() - older_than
          and not exists (select 1 from public.file_versions v where v.sha256 = f.sha256)
          and not exists (select 1 from public.etl_runs r where r.output_sha256 = f.sha256)
        limit greatest(batch, 1)
        for update skip locked
    ), gone as (delete from public.files f using doomed d where f.sha256 = d.sha256 returning 1)
    select count(*) into n_files from gone;

    return query select n_runs, n_versions, n_files;
end;
$$;

revoke all on function public.prune_files(interval, integer, integer) from public, anon, authenticated;
grant execute on function public.prune_files(interval, integer, integer) to service_role;
