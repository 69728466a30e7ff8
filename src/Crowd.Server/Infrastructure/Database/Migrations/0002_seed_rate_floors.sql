-- Hourly floors per region, in minor units. floor = max(legal part-time minimum, market reference for recording work).
-- Admins edit these through /api/rate-floors; later figures go in new migrations or through that page.
INSERT INTO rate_floors (region, currency, region_name, legal_minimum_minor, market_reference_minor, source, updated_at)
VALUES
  ('CN-BJ', 'CNY', 'Beijing, mainland China', 2770, 2500,
   'Legal: Beijing part-time hourly minimum wage 27.7 CNY (2025). Market: recording work advertised at 20-30 CNY/h on job sites (2025); midpoint 25 CNY.', now()),
  ('GB', 'GBP', 'United Kingdom', 1221, 900,
   'Legal: National Living Wage 12.21 GBP/h, age 21+ (April 2025). Market: Prolific recommended rate 9 GBP/h.', now()),
  ('US', 'USD', 'United States', 725, 1200,
   'Legal: federal minimum wage 7.25 USD/h. Market: Prolific recommended rate 12 USD/h.', now()),
  ('DE', 'EUR', 'Germany', 1282, 1200,
   'Legal: Mindestlohn 12.82 EUR/h (January 2025). Market: online study panels recommend about 12 EUR/h.', now());
