-- Current-season skaters (all game types) with their points, goals, assists and points-per-game ranks.
drop view if exists public.v_rankings_players_current;
create view public.v_rankings_players_current with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.position,
       s.games_played, s.goals, s.assists, s.points, s.pim, s.points_per_game,
       rank() over (order by s.points desc, s.goals desc) as points_rank,
       rank() over (order by s.goals desc) as goals_rank,
       rank() over (order by s.assists desc) as assists_rank,
       rank() over (order by s.points_per_game desc) as points_per_game_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All'
  and s.season_id = (select d.season_id from public.dim_schedule d
                     order by d.date desc nulls last, d.game_id desc limit 1);
grant select on public.v_rankings_players_current to anon, authenticated;
