package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shieldwall/shieldwall/internal/intel"
)

// maxImportBytes bounds an uploaded intelligence file.
const maxImportBytes = 64 << 20

type importData struct {
	Formats []string
	TLPs    []string
	Format  string
	TLP     string
	Report  *intel.Report
}

var importFormats = []string{"auto", "stix", "misp", "csv", "ioc"}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "import", s.newPage(r, "Import intelligence", "intel", &importData{Formats: importFormats, TLPs: tlpLevels, Format: "auto"}))
}

func (s *Server) importSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := importData{Formats: importFormats, TLPs: tlpLevels, Format: r.PostFormValue("format"), TLP: r.PostFormValue("tlp")}
	pg := s.newPage(r, "Import intelligence", "intel", &d)
	bad := func(msg string) {
		pg.Error = "Nothing was imported: " + msg + "."
		s.render(w, r, http.StatusBadRequest, "import", pg)
	}
	format, err := intel.ParseFormat(d.Format)
	if err != nil {
		bad("format: " + err.Error())
		return
	}
	if d.TLP != "" && !containsStr(tlpLevels, d.TLP) {
		bad(fmt.Sprintf("tlp: %q is not one of %s", d.TLP, strings.Join(tlpLevels, ", ")))
		return
	}
	coll, status, err := s.writableCollection(ctx, r, "")
	if err != nil {
		s.failErr(w, r, status, err)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			bad(fmt.Sprintf("file: larger than %d MiB; use shieldwall intel import for large files", maxImportBytes>>20))
			return
		}
		bad("file: choose a file to import")
		return
	}
	defer file.Close()
	if hdr.Size == 0 {
		bad("file: the file is empty")
		return
	}
	rep, err := (&intel.Importer{Store: s.o.Store}).Import(ctx, coll.ID, file, intel.Options{Format: format, TLP: d.TLP, MaxRejections: 20})
	rep.Source = hdr.Filename
	if err != nil && rep.Stored == 0 {
		bad(err.Error())
		return
	}
	d.Report = &rep
	if err != nil {
		pg.Error = "The import stopped early: " + err.Error() + "."
	} else {
		pg.Notice = fmt.Sprintf("Imported %s into %s.", hdr.Filename, coll.Title)
	}
	s.log.Info("console: import", "user", current(r).user.Name, "file", hdr.Filename, "stored", rep.Stored, "rejected", rep.Rejected)
	s.render(w, r, http.StatusOK, "import", pg)
}

func containsStr(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}
