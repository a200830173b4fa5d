-- Skater career totals over every season and game type, with points per game.
drop view if exists public.v_summary_player_career;
create view public.v_summary_player_career with (security_invoker = true) as
select s.player_id, max(s.player_name) as player_name,
       count(*) as seasons_played,
       sum(s.games_played) as career_games, sum(s.goals) as career_goals, sum(s.assists) as career_assists,
       sum(s.points) as career_points, sum(s.pim) as career_pim,
       sum(s.points)::double precision / nullif(sum(s.games_played), 0) as points_per_game,
       sum(s.goals)::double precision / nullif(sum(s.games_played), 0) as goals_per_game
from public.fact_player_season_stats_basic s
where s.game_type = 'All'
group by s.player_id;
grant select on public.v_summary_player_career to anon, authenticated;
