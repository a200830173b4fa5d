-- Each skater's last 5 games on the scoresheet: goals, assists, points and points per game (avg_points).
-- Materialised (a window over every scoresheet row); refreshed by each upload, inside its transaction.
drop materialized view if exists public.v_recent_hot_players;
create materialized view public.v_recent_hot_players as
with ranked as (
    select r.player_id, r.player_full_name, r.team_id, r.team_name, r.game_id, r.date, r.goals, r.assist,
           r.points,
           row_number() over (partition by r.player_id order by r.date desc nulls last, r.game_id desc) as n
    from public.fact_gameroster r
    where r.player_position is distinct from 'Goalie'
)
select player_id, max(player_full_name) as player_name,
       (array_agg(team_id order by n))[1] as team_id, (array_agg(team_name order by n))[1] as team_name,
       count(*) as games, max(date) as last_game_date,
       sum(goals) as goals, sum(assist) as assists, sum(points) as points,
       avg(points)::double precision as avg_points
from ranked
where n <= 5
group by player_id;
create unique index v_recent_hot_players_player on public.v_recent_hot_players (player_id);
create index v_recent_hot_players_avg on public.v_recent_hot_players (avg_points desc);
grant select on public.v_recent_hot_players to anon, authenticated;
