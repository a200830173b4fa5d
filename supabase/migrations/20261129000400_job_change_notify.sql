-- Live progress: every insert of a job and every change of what the API shows of it (status, progress, step,
-- cancel request, error, result, attempts) is announced on the channel job_changes with a small JSON payload (job_id, kind, status, progress, current_step, requested_by), which the REST API's Server-Sent Events streams fan out to
-- browsers (one LISTEN connection per API process, not one per client), and which invalidates the API's cache
-- of job reads (daemon/http/job_cache.py).
-- Heartbeats and lease changes do not fire it (the WHEN clause is checked without calling the function), so
-- the cost is one short pg_notify per job state change.

create or replace function public.job_requests_notify_change() returns trigger
language plpgsql as $$
begin
    perform pg_notify('job_changes', json_build_object(
        'job_id', new.id, 'kind', new.kind, 'status', new.status, 'progress', new.progress,
        'current_step', left(new.current_step, 200), 'requested_by', left(new.requested_by, 100))::text);
    return null;
end;
$$;

drop trigger if exists job_requests_notify_insert on public.job_requests;
create trigger job_requests_notify_insert after insert on public.job_requests
    for each row execute function public.job_requests_notify_change();

drop trigger if exists job_requests_notify_update on public.job_requests;
create trigger job_requests_notify_update
    after update of status, progress, current_step, cancel_requested, error, result, attempts, params
    on public.job_requests
    for each row
    when ((old.status, old.progress, old.current_step, old.cancel_requested, old.error, old.attempts)
          is distinct from (new.status, new.progress, new.current_step, new.cancel_requested, new.error, new.attempts)
          or old.result is distinct from new.result or old.params is distinct from new.params)
    execute function public.job_requests_notify_change();
