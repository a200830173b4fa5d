-- Current-season goalies (all game types) with wins, GAA, win % and shutout ranks; save_pct over complete
-- tracked games (null when none).
drop view if exists public.v_rankings_goalies_current;
create view public.v_rankings_goalies_current with (security_invoker = true) as
select g.season_id, g.season, g.player_id, g.player_name, g.team_id, g.team_name, g.games_played,
       g.wins, g.losses, g.ties, g.shutouts, g.goals_against, g.gaa, g.win_pct, g.save_pct,
       rank() over (order by g.wins desc, g.gaa asc) as wins_rank,
       rank() over (order by g.gaa asc) as gaa_rank,
       rank() over (order by g.win_pct desc) as win_pct_rank,
       rank() over (order by g.shutouts desc) as shutouts_rank
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All'
  and g.season_id = (select d.season_id from public.dim_schedule d
                     order by d.date desc nulls last, d.game_id desc limit 1);
grant select on public.v_rankings_goalies_current to anon, authenticated;
