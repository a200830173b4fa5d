-- Season skater totals over all game types, ranked per season by points (then goals).
drop view if exists public.v_leaderboard_points;
create view public.v_leaderboard_points with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.position,
       s.games_played, s.goals, s.assists, s.points, s.pim, s.points_per_game,
       rank() over (partition by s.season_id order by s.points desc, s.goals desc) as season_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_leaderboard_points to anon, authenticated;
