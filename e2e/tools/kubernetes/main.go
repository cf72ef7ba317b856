// pulumi-resource-kubernetes, built from the module proxy's copy of the provider. Upstream's own main embeds
// two files that its build generates and its module does not ship; this one embeds the same two, which
// tools/clusters/build.ts writes beside it from the module's schema.json and terraform-mapping.json (the
// schema stamped with the provider's version) before it builds. The files are git-ignored.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
