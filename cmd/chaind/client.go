package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// maxResponseSize bounds what the CLI reads from a node.
const maxResponseSize = 16 << 20

// apiClient talks to a node's HTTP API.
type apiClient struct {
	base    string
	token   string
	datadir string // where to look for credentials; "" for the node's network's default
	looked  bool   // credentials were looked for after a 401
	http    *http.Client
}

// addAPIFlags adds --api and --token to a command that talks to a node.
func addAPIFlags(cmd *cobra.Command, api, token *string) {
	cmd.Flags().StringVar(api, "api", "http://127.0.0.1:3001", "the node's API URL")
	cmd.Flags().StringVar(token, "token", "", "API token (default: when a route needs one, <datadir>/"+CookieFile+" or <datadir>/"+TokenFile+" of the node's data directory)")
}

// newAPIClient returns a client of the API at base. Without a token, a
// route that needs one is retried once with the credential found in
// datadir (or, when datadir is "", in the default data directory of the
// network the node says it runs).
func newAPIClient(base, token, datadir string) *apiClient {
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, datadir: datadir, http: &http.Client{Timeout: 30 * time.Second}}
}

// credential finds the token for a node that asked for one: the cookie or
// token file of its data directory.
func (c *apiClient) credential() string {
	dir := c.datadir
	if dir == "" {
		var s struct {
			Network string `json:"network"`
		}
		if c.do("GET", "/api/v1/status", nil, &s) != nil || !safeName(s.Network) {
			return ""
		}
		var err error
		if dir, err = dataDir("", s.Network); err != nil {
			return ""
		}
	}
	return readCredential(dir)
}

// do sends a request and decodes a JSON answer into out; a non-2xx answer
// becomes an error carrying the node's {"error": ...} message.
func (c *apiClient) do(method, path string, body, out any) error {
	var enc []byte
	if body != nil {
		var err error
		if enc, err = json.Marshal(body); err != nil {
			return err
		}
	}
	resp, data, err := c.send(method, path, enc)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized && c.token == "" && !c.looked {
		c.looked = true
		if c.token = c.credential(); c.token != "" {
			if resp, data, err = c.send(method, path, enc); err != nil {
				return err
			}
		}
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("node refused (%s): %s", resp.Status, e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// safeName reports whether a network name the node reported can be a
// directory name under ~/.chaind without leaving it.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name && !strings.ContainsAny(name, `/\`)
}

// send sends one request and reads its answer.
func (c *apiClient) send(method, path string, body []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach the node at %s (is \"chaind run\" running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, data, nil
}
