package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// maxResponseSize bounds what the CLI reads from a node.
const maxResponseSize = 16 << 20

// apiClient talks to a node's HTTP API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// addAPIFlags adds --api and --token to a command that talks to a node.
func addAPIFlags(cmd *cobra.Command, api, token *string) {
	cmd.Flags().StringVar(api, "api", "http://127.0.0.1:3001", "the node's API URL")
	cmd.Flags().StringVar(token, "token", "", "API token (default: read <datadir>/api.token when --datadir is given)")
}

func newAPIClient(base, token, datadir string) *apiClient {
	if token == "" && datadir != "" {
		if b, err := os.ReadFile(filepath.Join(datadir, TokenFile)); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a request and decodes a JSON answer into out; a non-2xx answer
// becomes an error carrying the node's {"error": ...} message.
func (c *apiClient) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the node at %s (is \"chaind run\" running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
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
