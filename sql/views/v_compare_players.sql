-- Season stat lines (all game types) to set side by side: one row per skater and season.
drop view if exists public.v_compare_players;
create view public.v_compare_players with (security_invoker = true) as
select s.player_id, s.player_name, s.season_id, s.season, s.team_id, s.team_name, s.position,
       s.games_played, s.goals, s.assists, s.points, s.pim, s.points_per_game, s.shots, s.shooting_pct,
       s.cf_pct
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_compare_players to anon, authenticated;
