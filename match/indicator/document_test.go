package indicator

import (
	"strings"
	"testing"
)

func TestKindDocumentAndPlate(t *testing.T) {
	testKind(t, Document, []canonCase{
		{"DEU:C01X00T47", "DEU:C01X00T47", ""},
		{"D C01X00T47", "DEU:C01X00T47", ""},
		{"de:c01x-00t47", "DEU:C01X00T47", ""},
		{"GBR 123 456 789", "GBR:123456789", ""},
		{"UK:123456789", "GBR:123456789", ""},
		{"XK:P0123456", "RKS:P0123456", ""},
		{"RKS:P0123456", "RKS:P0123456", ""},
		{"UNO:12345", "UNO:12345", ""},
		{"FRA:12AB34567<<", "FRA:12AB34567", ""},
		{"usa:123.456/789", "USA:123456789", ""},
		{"ZZ:123", "", "ISO 3166"},
		{"DEUTSCHLAND:123", "", "alpha-2 or alpha-3"},
		{"DEU:", "", "1 to 32"},
		{"DEU:C01#", "", "A-Z, 0-9"},
		{"DEUC01X00T47", "", "COUNTRY:NUMBER"},
		{"DEU:" + strings.Repeat("A", 33), "", "1 to 32"},
	})
	testKind(t, Plate, []canonCase{
		{"DE:B-AB 1234", "DEU:BAB1234", ""},
		{"DEU:bab1234", "DEU:BAB1234", ""},
		{"D M AB 12", "DEU:MAB12", ""},
		{"FRA:AB-123-CD", "FRA:AB123CD", ""},
		{"fr ab 123 cd", "FRA:AB123CD", ""},
		{"RUS:а123вс 77", "RUS:А123ВС77", ""},
		{"NLD:12-ABC-3", "NLD:12ABC3", ""},
		{"AUT:W·12345", "AUT:W12345", ""},
		{"GBR:AB12 CDE", "GBR:AB12CDE", ""},
		{"CHE:ZH_123456", "CHE:ZH123456", ""},
		{"DEU:B-AB*1234", "", "letters, digits"},
		{"DEU:", "", "1 to 16"},
		{"QQ:ABC", "", "ISO 3166"},
		{"DEU:" + strings.Repeat("A", 17), "", "1 to 16"},
	})
}
