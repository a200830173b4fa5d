-- Team season record (all game types) with the roster's scoring totals and its top scorer.
drop view if exists public.v_summary_team_season;
create view public.v_summary_team_season with (security_invoker = true) as
select t.season_id, t.season, t.team_id, t.team_name, t.games_played, t.wins, t.losses, t.ties, t.points,
       t.win_pct, t.goals_for, t.goals_against, t.goal_diff, t.goals_for_per_game, t.goals_against_per_game,
       r.roster_size, r.roster_goals, r.roster_assists, r.roster_points,
       top.player_id as top_scorer_id, top.player_name as top_scorer_name, top.points as top_scorer_points
from public.fact_team_season_stats_basic t
left join lateral (
    select count(*) as roster_size, sum(p.goals) as roster_goals, sum(p.assists) as roster_assists,
           sum(p.points) as roster_points
    from public.fact_player_season_stats_basic p
    where p.season_id = t.season_id and p.team_id = t.team_id and p.game_type = 'All'
) r on true
left join lateral (
    select p.player_id, p.player_name, p.points
    from public.fact_player_season_stats_basic p
    where p.season_id = t.season_id and p.team_id = t.team_id and p.game_type = 'All'
    order by p.points desc, p.goals desc, p.player_id
    limit 1
) top on true
where t.game_type = 'All';
grant select on public.v_summary_team_season to anon, authenticated;
