-- Goalie season wins (all game types; W from the team result of each game dressed), ranked per season.
drop view if exists public.v_leaderboard_goalie_wins;
create view public.v_leaderboard_goalie_wins with (security_invoker = true) as
select g.season_id, g.season, g.player_id, g.player_name, g.team_id, g.team_name, g.games_played,
       g.wins, g.losses, g.ties, g.shutouts, g.gaa,
       rank() over (partition by g.season_id order by g.wins desc, g.gaa asc) as season_rank
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All';
grant select on public.v_leaderboard_goalie_wins to anon, authenticated;
