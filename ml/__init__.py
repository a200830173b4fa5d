"""BenchSight's models, fitted on the league's own data (pure: no asyncio, no job rows, no database).

Layers, one way: `frames` turns warehouse tables (dashboard-contract column names) into training frames;
each model module fits, predicts and backtests one model and stores it as plain data (`Model`: JSON-able
coefficients and feature definitions, never a pickle); `training` fits them all and `report` draws the
calibration plots. Dependencies: numpy, pandas, scipy (optimisers, distributions), scikit-learn (the
logistic regression and ranking metrics behind xG), matplotlib (report plots only).
"""
