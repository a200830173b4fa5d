-- The last 20 games with an official score: score and winner (team name, or 'Tie').
drop view if exists public.v_recent_games;
create view public.v_recent_games with (security_invoker = true) as
select s.game_id, s.date, s.season_id, s.game_type, s.home_team_id, s.home_team_name, s.away_team_id,
       s.away_team_name, s.official_home_goals as home_goals, s.official_away_goals as away_goals,
       case when s.official_home_goals > s.official_away_goals then s.home_team_name
            when s.official_home_goals < s.official_away_goals then s.away_team_name
            else 'Tie' end as winner
from public.dim_schedule s
where s.official_home_goals is not null and s.official_away_goals is not null
order by s.date desc nulls last, s.game_id desc
limit 20;
grant select on public.v_recent_games to anon, authenticated;
