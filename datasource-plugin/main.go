// Command gpx_mailtrail is the backend of mailtrail's Grafana datasource
// plugin. Grafana starts it and talks to it over gRPC; the logic lives in
// pkg/datasource.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	mtds "github.com/mailtrail/mailtrail/pkg/datasource"
)

func main() {
	if err := datasource.Manage(mtds.PluginID, mtds.NewInstance, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
