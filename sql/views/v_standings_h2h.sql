-- Head-to-head record of every pair of teams per season and game type, from the schedule's official scores
-- (one row per team and opponent).
drop view if exists public.v_standings_h2h;
create view public.v_standings_h2h with (security_invoker = true) as
with sides as (
    select s.season_id, s.game_type, s.game_id, s.home_team_id as team_id, s.home_team_name as team_name,
           s.away_team_id as opponent_id, s.away_team_name as opponent_name,
           s.official_home_goals as goals_for, s.official_away_goals as goals_against
    from public.dim_schedule s
    union all
    select s.season_id, s.game_type, s.game_id, s.away_team_id, s.away_team_name, s.home_team_id,
           s.home_team_name, s.official_away_goals, s.official_home_goals
    from public.dim_schedule s
)
select season_id, game_type, team_id, team_name, opponent_id, opponent_name,
       count(*) as games_played,
       count(*) filter (where goals_for > goals_against) as wins,
       count(*) filter (where goals_for < goals_against) as losses,
       count(*) filter (where goals_for = goals_against) as ties,
       sum(goals_for) as goals_for, sum(goals_against) as goals_against
from sides
where goals_for is not null and goals_against is not null
group by season_id, game_type, team_id, team_name, opponent_id, opponent_name;
grant select on public.v_standings_h2h to anon, authenticated;
