-- Models trained on the league's data: the ml_train / ml_predict job kinds, the model registry, and a new
-- ml_train job after every warehouse load.
--
-- ml_models holds every fitted version as data: coefficients and feature definitions (params), the
-- hyperparameters, the training data's hash and size, and the backtest beside its baselines (metrics).
-- Signed-in users read it; only the daemon (service_role) writes it. The API serves the latest version of
-- each model and reloads when a new one is recorded.

insert into public.job_kinds (kind, description, exclusive_group) values
    ('ml_train', 'fit every model from the warehouse and record the versions in ml_models', null),
    ('ml_predict', 'write the prediction tables (ml_*) and the xG columns from the latest models', 'warehouse')
on conflict (kind) do nothing;

create table if not exists public.ml_models (
    id              bigint generated always as identity primary key,
    model           text not null,
    version         integer not null check (version >= 1),
    trained_at      timestamptz not null,
    data_hash       text not null,
    n_train         integer not null check (n_train >= 0),
    hyperparameters jsonb not null default '{}'::jsonb,
    metrics         jsonb not null default '{}'::jsonb,
    beats_baseline  boolean,
    params          jsonb not null,
    notes           text not null default '',
    job_id          uuid,
    recorded_at     timestamptz not null default now(),
    unique (model, version)
);
create index if not exists ml_models_latest_idx on public.ml_models (model, version desc);

-- Records a fitted model as the next version, unless the latest version was fitted on the same data with the
-- same hyperparameters and came out the same (then that version is returned and nothing is added).
create or replace function public.record_ml_model(
    p_model text, p_trained_at timestamptz, p_data_hash text, p_n_train integer, p_hyperparameters jsonb,
    p_metrics jsonb, p_beats_baseline boolean, p_params jsonb, p_notes text, p_job_id uuid
) returns table (version integer, created boolean)
language plpgsql as $$
declare
    latest public.ml_models;
begin
    perform pg_advisory_xact_lock(hashtext('ml_models:' || p_model));
    select * into latest from public.ml_models m where m.model = p_model order by m.version desc limit 1;
    if found and latest.data_hash = p_data_hash and latest.hyperparameters = p_hyperparameters
            and latest.params = p_params then
        return query select latest.version, false;
        return;
    end if;
    return query
    insert into public.ml_models (model, version, trained_at, data_hash, n_train, hyperparameters, metrics,
                                  beats_baseline, params, notes, job_id)
    values (p_model, coalesce(latest.version, 0) + 1, p_trained_at, p_data_hash, p_n_train, p_hyperparameters,
            p_metrics, p_beats_baseline, p_params, p_notes, p_job_id)
    returning ml_models.version, true;
end;
$$;

-- Every load of the public warehouse asks for training, once: while an ml_train job is pending or running,
-- enqueue_job returns it instead of adding another (dedupe_key).
create or replace function public.ml_train_after_load() returns trigger
language plpgsql as $$
begin
    if new.db_schema = 'public' then
        perform public.enqueue_job('ml_train', '{}'::jsonb, 0, null, 'ml_train:auto');
    end if;
    return new;
end;
$$;

drop trigger if exists ml_train_after_load on public.warehouse_loads;
create trigger ml_train_after_load after insert on public.warehouse_loads
    for each row execute function public.ml_train_after_load();

alter table public.ml_models enable row level security;
revoke all on public.ml_models from public, anon, authenticated;
grant all on public.ml_models to service_role;
grant select on public.ml_models to authenticated;
drop policy if exists ml_models_read on public.ml_models;
create policy ml_models_read on public.ml_models for select to authenticated using (true);
drop policy if exists ml_models_service on public.ml_models;
create policy ml_models_service on public.ml_models to service_role using (true) with check (true);

revoke all on function public.record_ml_model(text, timestamptz, text, integer, jsonb, jsonb, boolean, jsonb, text, uuid)
    from public, anon, authenticated;
grant execute on function public.record_ml_model(text, timestamptz, text, integer, jsonb, jsonb, boolean, jsonb, text, uuid)
    to service_role;
