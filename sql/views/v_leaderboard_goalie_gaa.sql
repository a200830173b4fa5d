-- Goals-against average per season (all game types), goalies with at least 5 games, ranked ascending.
drop view if exists public.v_leaderboard_goalie_gaa;
create view public.v_leaderboard_goalie_gaa with (security_invoker = true) as
select g.season_id, g.season, g.player_id, g.player_name, g.team_id, g.team_name, g.games_played,
       g.goals_against, g.gaa, g.wins,
       rank() over (partition by g.season_id order by g.gaa asc) as season_rank
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All' and g.games_played >= 5;
grant select on public.v_leaderboard_goalie_gaa to anon, authenticated;
