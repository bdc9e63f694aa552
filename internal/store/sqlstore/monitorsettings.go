package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ferry-ml/ferry/internal/monitor"
)

// SetDriftSettings implements monitor.SettingsStore: the endpoint's
// settings replace any it had. They are validated first.
func (s *Store) SetDriftSettings(ctx context.Context, ds monitor.DriftSettings) error {
	if err := ds.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO monitor_settings (endpoint, stattest, threshold, drift_share, window_rows, window_ms)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET stattest = excluded.stattest, threshold = excluded.threshold,
				drift_share = excluded.drift_share, window_rows = excluded.window_rows, window_ms = excluded.window_ms`,
			ds.Endpoint, ds.StatTest, ds.Threshold, ds.DriftShare, ds.WindowRows, ds.Window.Milliseconds())
		return err
	})
}

// GetDriftSettings implements monitor.SettingsStore: the zero settings
// (the defaults) for an endpoint without any.
func (s *Store) GetDriftSettings(ctx context.Context, endpoint string) (monitor.DriftSettings, error) {
	ds := monitor.DriftSettings{Endpoint: endpoint}
	err := s.read(ctx, func(t tx) error {
		var windowMS int64
		err := t.queryRow(ctx, `SELECT stattest, threshold, drift_share, window_rows, window_ms FROM monitor_settings WHERE endpoint = ?`,
			endpoint).Scan(&ds.StatTest, &ds.Threshold, &ds.DriftShare, &ds.WindowRows, &windowMS)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ds.Window = time.Duration(windowMS) * time.Millisecond
		return err
	})
	return ds, err
}

var _ monitor.SettingsStore = (*Store)(nil)
