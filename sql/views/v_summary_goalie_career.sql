-- Goalie career totals over every season and game type: record, shutouts, goals-against average.
drop view if exists public.v_summary_goalie_career;
create view public.v_summary_goalie_career with (security_invoker = true) as
select g.player_id, max(g.player_name) as player_name,
       count(*) as seasons_played,
       sum(g.games_played) as career_games, sum(g.wins) as career_wins, sum(g.losses) as career_losses,
       sum(g.ties) as career_ties, sum(g.shutouts) as career_shutouts, sum(g.goals_against) as career_goals_against,
       sum(g.goals_against)::double precision / nullif(sum(g.games_played), 0) as career_gaa,
       sum(g.wins)::double precision / nullif(sum(g.games_played), 0) as career_win_pct
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All'
group by g.player_id;
grant select on public.v_summary_goalie_career to anon, authenticated;
