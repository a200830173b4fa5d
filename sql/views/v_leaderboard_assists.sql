-- Season skater assists over all game types, ranked per season.
drop view if exists public.v_leaderboard_assists;
create view public.v_leaderboard_assists with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.games_played, s.assists,
       rank() over (partition by s.season_id order by s.assists desc) as season_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_leaderboard_assists to anon, authenticated;
