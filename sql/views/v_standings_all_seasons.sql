-- Standings of every season over all game types (as the old dashboard showed them; the Regular and Playoffs
-- splits are in fact_team_season_stats_basic): 2 points a win, 1 a tie; ranked by points, goal difference,
-- goals for.
drop view if exists public.v_standings_all_seasons;
create view public.v_standings_all_seasons with (security_invoker = true) as
select t.season_id, t.season, t.team_id, t.team_name, t.games_played, t.wins, t.losses, t.ties, t.points,
       t.goals_for, t.goals_against, t.goal_diff, t.goals_for_per_game, t.goals_against_per_game, t.win_pct,
       rank() over (partition by t.season_id order by t.points desc, t.goal_diff desc, t.goals_for desc) as standing
from public.fact_team_season_stats_basic t
where t.game_type = 'All';
grant select on public.v_standings_all_seasons to anon, authenticated;
