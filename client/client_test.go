package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chaind/chaind/apitypes"
)

func TestErrorCarriesTheAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("token not sent: %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"error":"tx 00: nonce too low","code":"bad-nonce","id":"00"}`)
	}))
	defer srv.Close()
	_, err := New(srv.URL, WithToken(" tok\n")).SubmitTx(context.Background(), apitypes.Tx{})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict || e.Body.Code != "bad-nonce" || e.Body.ID != "00" {
		t.Fatalf("error %#v", err)
	}
	if StatusOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "nonce too low") || !strings.Contains(err.Error(), "POST /api/v1/txs") {
		t.Fatalf("error text %q", err)
	}
}

func TestNonJSONErrorAndLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/status" {
			io.WriteString(w, `{"network":"`+strings.Repeat("x", 100)+`"}`)
			return
		}
		http.Error(w, "bad gateway from a proxy", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := New(srv.URL).Node(context.Background())
	if StatusOf(err) != http.StatusBadGateway || !strings.Contains(err.Error(), "bad gateway from a proxy") {
		t.Fatalf("plain-text error: %v", err)
	}
	if _, err := New(srv.URL, WithMaxResponse(50)).Status(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than 50 bytes") {
		t.Fatalf("oversized answer: %v", err)
	}
	if s, err := New(srv.URL + "/").Status(context.Background()); err != nil || len(s.Network) != 100 {
		t.Fatalf("status: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := New(url).Status(context.Background())
	if !errors.Is(err, ErrUnreachable) || StatusOf(err) != 0 {
		t.Fatalf("closed server: %v", err)
	}
}

func TestEventStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": subscribed\n\nevent: block\ndata: {\"index\":3}\n\n: heartbeat\n\nevent: reorg\ndata: {\"height\":2,\n")
		io.WriteString(w, "data: \"hash\":\""+strings.Repeat("0", 64)+"\"}\n\n")
	}))
	defer srv.Close()
	es, err := New(srv.URL).Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	ev, err := es.Next()
	var b apitypes.BlockSummary
	if err != nil || ev.Name != apitypes.EventBlock || ev.Decode(&b) != nil || b.Index != 3 {
		t.Fatalf("first event %+v %v", ev, err)
	}
	ev, err = es.Next()
	var r apitypes.Reorg
	if err != nil || ev.Name != apitypes.EventReorg || ev.Decode(&r) != nil || r.Height != 2 {
		t.Fatalf("second event (two data lines) %+v %v", ev, err)
	}
	if _, err := es.Next(); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
}
