-- A goalie's game log: goals against from the scoresheet; saves, shots against and save % tracked (null for
-- untracked games).
drop view if exists public.v_detail_goalie_games;
create view public.v_detail_goalie_games with (security_invoker = true) as
select g.game_id, s.date, s.season_id, s.game_type, g.player_id, p.player_full_name as player_name, g.team_id,
       t.team_name, g.game_status, g.saves, g.shots_against,
       coalesce(g.official_goals_against, g.goals_against) as goals_against, g.save_pct
from public.fact_goalie_game_stats g
left join public.dim_schedule s on s.game_id = g.game_id
left join public.dim_player p on p.player_id = g.player_id
left join public.dim_team t on t.team_id = g.team_id;
grant select on public.v_detail_goalie_games to anon, authenticated;
