-- Standings (all game types) of the current season: the season of the latest scheduled game.
drop view if exists public.v_standings_current;
create view public.v_standings_current with (security_invoker = true) as
select t.season_id, t.season, t.team_id, t.team_name, t.games_played, t.wins, t.losses, t.ties, t.points,
       t.goals_for, t.goals_against, t.goal_diff, t.goals_for_per_game, t.goals_against_per_game, t.win_pct,
       rank() over (order by t.points desc, t.goal_diff desc, t.goals_for desc) as standing
from public.fact_team_season_stats_basic t
where t.game_type = 'All'
  and t.season_id = (select s.season_id from public.dim_schedule s
                     order by s.date desc nulls last, s.game_id desc limit 1);
grant select on public.v_standings_current to anon, authenticated;
