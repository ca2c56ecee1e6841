package server

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/fleet"
)

// FleetStore is the query API's fleet store client (source=fleet), nil
// when none is configured. Its own HTTP client: a store that accepts
// connections and then says nothing is bounded by the API's query
// deadline, one that does not accept them by the dial timeout.
func FleetStore(fs config.FleetStore) (*fleet.Store, error) {
	if fs.URL == "" {
		return nil, nil
	}
	password, bearer, err := fs.Credentials()
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second, MaxIdleConns: 4, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
	}}
	st, err := fleet.New(fs.URL, c, fleet.Auth{User: fs.User, Password: password, Bearer: bearer})
	if err != nil {
		// fleet.New names the plugin's setting; this is the exporter's.
		return nil, fmt.Errorf("api.fleet_store.url (--api.fleet-store-url) %q: want the store's base URL, like http://victorialogs:9428", fs.URL)
	}
	return st, nil
}
