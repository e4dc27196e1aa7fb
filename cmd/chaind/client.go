package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/client"
)

// requestTimeout bounds a reading command's request; generate and faucet
// take their own.
const requestTimeout = 30 * time.Second

// apiFlags are the flags of a command that talks to a node.
type apiFlags struct {
	api     string
	token   string
	datadir string
	json    bool
}

// add adds --api, --token and --datadir (for the token file), and --json
// when the command reads.
func (f *apiFlags) add(cmd *cobra.Command, reads bool) {
	cmd.Flags().StringVar(&f.api, "api", "http://127.0.0.1:3001", "the node's API URL")
	cmd.Flags().StringVar(&f.token, "token", "", "API token (default: when a route needs one, <datadir>/"+CookieFile+" or <datadir>/"+TokenFile+" of the node's data directory)")
	if cmd.Flags().Lookup("datadir") == nil {
		cmd.Flags().StringVar(&f.datadir, "datadir", "", "the node's data directory, where its cookie is (default ~/.chaind/<the node's network>)")
	}
	if reads {
		cmd.Flags().BoolVar(&f.json, "json", false, "print the node's JSON answer instead of text")
	}
}

// client returns a client of the node at --api with the token from
// --token or <datadir>/api.token (datadir overrides --datadir when given).
func (f *apiFlags) client(datadir string) *client.Client {
	if datadir == "" {
		datadir = f.datadir
	}
	return newClient(f.api, f.token, datadir)
}

// newClient returns a client of the API at base. Without a token, a route
// that answers 401 is sent again once with the credential found in datadir
// (or, when datadir is "", in the default data directory of the network
// the node says it runs): its cookie, else its token file.
func newClient(base, token, datadir string) *client.Client {
	return client.New(base, client.WithToken(token), client.WithCredential(func(ctx context.Context, c *client.Client) string {
		dir := datadir
		if dir == "" {
			s, err := c.Status(ctx)
			if err != nil || !safeName(s.Network) {
				return ""
			}
			if dir, err = dataDir("", s.Network); err != nil {
				return ""
			}
		}
		return readCredential(dir)
	}))
}

// safeName reports whether a network name the node reported can be a
// directory name under ~/.chaind without leaving it.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name && !strings.ContainsAny(name, `/\`)
}

// timeout returns a context for one reading request.
func timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// apiRunE is the RunE of a command that asks the API one thing: it binds
// the CHAIND_ environment, calls ask within the request timeout, and
// prints the answer as JSON (--json) or as text.
func apiRunE[T any](f *apiFlags, ask func(ctx context.Context, c *client.Client, args []string) (T, error),
	text func(w io.Writer, v T)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := bindEnv(cmd); err != nil {
			return err
		}
		ctx, cancel := timeout()
		defer cancel()
		v, err := ask(ctx, f.client(""), args)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(cmd.OutOrStdout(), v)
		}
		text(cmd.OutOrStdout(), v)
		return nil
	}
}
