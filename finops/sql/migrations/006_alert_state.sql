-- 006_alert_state: what `finops alerts` last saw and last sent for each alert, so an alert is
-- sent once when it starts firing, again only when it gets worse, and once when it resolves
-- (finops.analysis.alert_state). One row per alert_key (kind | scope | topic).
CREATE TABLE alert_state (
    alert_key       VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    scope           VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,      -- firing | resolved
    severity        VARCHAR NOT NULL,
    level           INTEGER NOT NULL,      -- a budget's threshold crossed (percent), else 0
    amount_usd      DECIMAL(38, 2),
    message         VARCHAR NOT NULL,
    first_day       DATE NOT NULL,         -- the day it started firing
    last_day        DATE NOT NULL,         -- the last day it was evaluated firing (or resolved)
    sent_severity   VARCHAR NOT NULL,      -- as last sent (new or worse)
    sent_level      INTEGER NOT NULL,
    sent_amount_usd DECIMAL(38, 2),
    sent_day        DATE NOT NULL
);
