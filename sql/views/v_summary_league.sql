-- Per-season league totals and averages from the scoresheet (every game type).
drop materialized view if exists public.v_summary_league;
create materialized view public.v_summary_league as
select r.season_id, min(r.season) as season,
       count(distinct r.game_id) as total_games,
       count(distinct r.player_id) as total_players,
       count(distinct r.team_id) as total_teams,
       sum(r.goals) as total_goals, sum(r.assist) as total_assists, sum(r.points) as total_points,
       sum(r.pim) as total_pim,
       sum(r.goals)::double precision / nullif(count(distinct r.game_id), 0) as avg_goals_per_game
from public.fact_gameroster r
where r.season_id is not null
group by r.season_id;
grant select on public.v_summary_league to anon, authenticated;
