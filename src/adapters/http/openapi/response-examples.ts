// Answers of the request examples, as the demo data gives them (trimmed: at most two items of a
// list, long values and certificates shortened, keys and tokens replaced). Checked by
// test/integration/openapi.test.ts, which runs the requests.

export const responseExamples: Record<string, unknown> = {
  "GET /metrics": "# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.\n# TYPE process_cpu_user_seconds_total counter\nprocess_cpu_user_seconds_total 2.224712\n…\n# TYPE cc_authorizations_total counter\n# TYPE cc_authorization_duration_seconds histogram\n# TYPE cc_ledger_batch_commands histogram\n",
  "GET /health/live": {
    "status": "ok"
  },
  "GET /health/ready": {
    "status": "ready",
    "postgres": "ok",
    "redis": "ok",
    "recovery": "done"
  },
  "POST /v1/admin/operators": {
    "operatorId": "ZZFERRY"
  },
  "POST /v1/admin/merchants": {
    "merchantId": "M0000000000301"
  },
  "POST /v1/admin/terminals": {
    "terminalId": "POS00301",
    "apiKey": "cck_Xk2mP9qRvT7wY3zA5bC8dE1fG4hJ6kL0",
    "mak": "0123456789abcdef0123456789abcdef",
    "tpk": "fedcba9876543210fedcba9876543210",
    "tmk": "00112233445566778899aabbccddeeff"
  },
  "POST /v1/admin/citizens": {
    "citizenId": 1001
  },
  "POST /v1/admin/cards": {
    "cardNo": "6200900000010013",
    "status": "active",
    "expiresOn": "2031-12-02"
  },
  "POST /v1/admin/cards/{cardNo}/status": {
    "cardNo": "6200900000000048",
    "status": "blocked"
  },
  "POST /v1/admin/cards/{cardNo}/replace": {
    "cardNo": "6200900000010021"
  },
  "POST /v1/admin/medical-accounts/{cardNo}/credit": {
    "approved": true,
    "code": "00",
    "transactionId": "2003",
    "medical": 70000
  },
  "GET /v1/admin/trial-balance": {
    "balanced": true,
    "total": 0,
    "accounts": [
      {
        "kind": "clearing",
        "count": 4,
        "balance": -10000000
      },
      {
        "kind": "fees",
        "count": 1,
        "balance": 0
      }
    ],
    "mismatched": []
  },
  "POST /v1/topups": {
    "approved": true,
    "code": "00",
    "transactionId": "2004",
    "balance": 15000
  },
  "POST /v1/payments": {
    "approved": true,
    "code": "00",
    "transactionId": "2005",
    "authCode": "002005",
    "balance": 14650
  },
  "POST /v1/refunds": {
    "approved": true,
    "code": "00",
    "transactionId": "2006",
    "balance": 14750
  },
  "POST /v1/payments/{paymentId}/reverse": {
    "approved": false,
    "code": "25"
  },
  "POST /v1/admin/cards/{cardNo}/pin-unlock": {
    "cardNo": "6200900000000014",
    "pinLocked": false
  },
  "POST /v1/admin/terminals/{terminalId}/pin-clear": {
    "terminalId": "POS00001",
    "wasBlocked": false
  },
  "GET /v1/cards/{cardNo}/balance": {
    "cardNo": "6200900000000014",
    "status": "active",
    "purse": 14750,
    "medical": 70000
  },
  "GET /v1/cards/{cardNo}/transactions": {
    "items": [
      {
        "transactionId": "2006",
        "kind": "refund",
        "reference": "r-1",
        "account": "purse",
        "amount": 100,
        "businessDate": "2026-12-01",
        "createdAt": "2026-12-01T05:58:05.147Z",
        "terminalId": "POS00001",
        "detail": {
          "merchantId": "M0000000000001",
          "paymentId": "p-1"
        }
      },
      {
        "transactionId": "2005",
        "kind": "payment",
        "reference": "p-1",
        "account": "purse",
        "amount": -350,
        "businessDate": "2026-12-01",
        "createdAt": "2026-12-01T05:58:05.128Z",
        "terminalId": "POS00001",
        "detail": {
          "merchantId": "M0000000000001"
        }
      }
    ],
    "nextCursor": "2"
  },
  "POST /v1/citizen/login": {
    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2MjAwOTAwMDAwMDAwMDMwIiwicm9sZSI6ImNpdGl6ZW4ifQ.…",
    "tokenType": "Bearer",
    "expiresIn": 900
  },
  "GET /v1/citizen/me": {
    "cardNo": "6200********0030",
    "last4": "0030",
    "status": "active",
    "cardType": "adult",
    "expiresOn": "2031-12-31",
    "replaced": false,
    "purse": 10000,
    "medical": 50000,
    "holder": {
      "name": "D************3",
      "idNumber": "410***********0002",
      "insured": true
    }
  },
  "GET /v1/citizen/transactions": {
    "items": [
      {
        "transactionId": "6",
        "kind": "medical-credit",
        "reference": "seed-6200********0030",
        "account": "medical",
        "amount": 50000,
        "businessDate": "2026-12-01",
        "createdAt": "2026-12-01T05:58:02.841Z",
        "terminalId": null
      },
      {
        "transactionId": "5",
        "kind": "topup",
        "reference": "seed-6200********0030",
        "account": "purse",
        "amount": 10000,
        "businessDate": "2026-12-01",
        "createdAt": "2026-12-01T05:58:02.841Z",
        "terminalId": null,
        "detail": {
          "channel": "counter"
        }
      }
    ],
    "nextCursor": null
  },
  "POST /v1/citizen/topup": {
    "type": "about:blank",
    "title": "invalid transaction",
    "status": 410,
    "code": "12",
    "detail": "gone: a citizen cannot top up directly; create a top-up orde…"
  },
  "POST /v1/citizen/topup-orders": {
    "orderId": "cedf19cb368f1e5507b38b73b031ba19",
    "amount": 2000,
    "status": "pending",
    "createdAt": "2026-12-01T05:58:05.325Z",
    "expiresAt": "2026-12-01T06:08:05.325Z",
    "channel": null,
    "code": null,
    "transactionId": null
  },
  "GET /v1/citizen/topup-orders/{orderId}": {
    "orderId": "e6345ac01a46d5f5e2a9f1f803ba0604",
    "amount": 2000,
    "status": "pending",
    "createdAt": "2026-12-01T05:58:05.344Z",
    "expiresAt": "2026-12-01T06:08:05.344Z",
    "channel": null,
    "code": null,
    "transactionId": null
  },
  "POST /v1/topup-orders/{orderId}/confirm": {
    "approved": true,
    "code": "00",
    "orderId": "62945585d612439041c4a2a4e48b4c4b",
    "status": "confirmed",
    "cardNo": "6200********0030",
    "transactionId": "2007",
    "balance": 12000
  },
  "POST /v1/citizen/topup-orders/{orderId}/cancel": {
    "orderId": "6f5eeccbf22e7e01387aa5646dbcc868",
    "amount": 2000,
    "status": "cancelled",
    "createdAt": "2026-12-01T05:58:05.377Z",
    "expiresAt": "2026-12-01T06:08:05.377Z",
    "channel": null,
    "code": null,
    "transactionId": null
  },
  "POST /v1/admin/topup-orders/{orderId}/confirm": {
    "approved": true,
    "code": "00",
    "orderId": "cfdf635fe47b398f97b365c75f296cd0",
    "status": "confirmed",
    "cardNo": "6200********0030",
    "transactionId": "2008",
    "balance": 14000
  },
  "POST /v1/citizen/report-loss": {
    "cardNo": "6200********0030",
    "status": "lost",
    "changed": true
  },
  "POST /v1/taps": {
    "approved": true,
    "code": "00",
    "fare": 100,
    "journeyId": null,
    "balance": 14650,
    "explanation": [
      "base fare B2 100"
    ]
  },
  "POST /v1/taps/batch": {
    "results": [
      {
        "tapId": "BUS00002-000001",
        "status": "accepted",
        "code": "00",
        "fare": 200
      },
      {
        "tapId": "BUS00002-000002",
        "status": "accepted",
        "code": "00",
        "fare": 200
      }
    ]
  },
  "GET /v1/hotlist": {
    "version": 3,
    "changes": [
      {
        "cardNo": "6200900000000048",
        "listed": true,
        "reason": "blocked"
      },
      {
        "cardNo": "6200900000000055",
        "listed": true,
        "reason": "blocked"
      }
    ],
    "more": false
  },
  "GET /v1/offline-budgets": {
    "version": 0,
    "changes": [],
    "more": false
  },
  "POST /v1/terminals/daily-totals": {
    "recorded": true,
    "transactions": 1
  },
  "POST /v1/medical/presettle": {
    "fund": 0,
    "personal": 5100,
    "purse": 0,
    "cash": 0,
    "total": 5100
  },
  "POST /v1/medical/settle": {
    "approved": true,
    "code": "00",
    "fund": 0,
    "personal": 5100,
    "purse": 0,
    "cash": 0,
    "total": 5100,
    "transactionId": "2012"
  },
  "POST /v1/medical/{claimId}/cancel": {
    "approved": true,
    "code": "00"
  },
  "GET /v1/pki/ca.pem": "-----BEGIN CERTIFICATE-----\nMIIEQzCCAqugAwIBAgIQaqhdGDqNTaYajsVrKheVhzANBgkqhkiG9w0BAQsFADA6\n…\n-----END CERTIFICATE-----\n",
  "GET /v1/pki/crl.pem": "-----BEGIN X509 CRL-----\nMIICFTB/AgEBMA0GCSqGSIb3DQEBCwUAMDoxITAfBgNVBAMTGENpdGl6ZW4gQ2Fy\n…\n-----END X509 CRL-----\n",
  "POST /v1/admin/terminals/{terminalId}/certificate": {
    "certificate": "-----BEGIN CERTIFICATE-----\nMIID4zCCAkugAwIBAgIQO3C2AoPn53RDMz082jfSZjANBgkqhkiG9w0BAQsFADA6\n…\n-----END CERTIFICATE-----\n",
    "caCertificate": "-----BEGIN CERTIFICATE-----\nMIIEQzCCAqugAwIBAgIQaqhdGDqNTaYajsVrKheVhzANBgkqhkiG9w0BAQsFADA6\n…\n-----END CERTIFICATE-----\n",
    "serialNumber": "3b70b60283e7e77443333d3cda37d266",
    "notAfter": "2027-12-02T05:58:05.576Z"
  },
  "POST /v1/admin/terminals/{terminalId}/pkcs12": {
    "pkcs12": "MIIOogIBAzCCDmgGCSqGSIb3DQEHAaCCDlkEgg5VMIIOUTCCCOcGCSqGSIb3…",
    "serialNumber": "476e2816e2279a3d8c2b9e884e9e2967",
    "notAfter": "2027-12-02T05:58:06.109Z"
  },
  "POST /v1/admin/terminals/{terminalId}/status": {
    "terminalId": "TAXI0001",
    "status": "active",
    "revoked": []
  },
  "GET /v1/admin/jobs": {
    "timezone": "Asia/Shanghai",
    "jobs": [
      {
        "name": "close-journeys",
        "at": "04:10",
        "does": "open metro journeys of the day get the maximum fare from their entry station",
        "nextRunAt": null
      },
      {
        "name": "clearing",
        "at": "04:20",
        "does": "per operator and merchant: count, gross, commission, net; settlement CSV; receivable/payable → settlement and fees",
        "nextRunAt": null
      }
    ]
  },
  "POST /v1/admin/jobs/{name}": {
    "jobId": "trial-balance@2026-12-01",
    "name": "trial-balance",
    "businessDate": "2026-12-01",
    "created": true
  },
  "GET /v1/admin/jobs/{name}/{jobId}": {
    "jobId": "trial-balance@2026-12-01",
    "name": "trial-balance",
    "businessDate": "2026-12-01",
    "rerun": false,
    "state": "active",
    "queueState": "active",
    "progress": 0,
    "attempts": 0,
    "result": null,
    "error": null,
    "queuedAt": "2026-12-01T05:58:06.336Z",
    "startedAt": null,
    "finishedAt": null
  },
  "GET /v1/admin/stats": {
    "sampleMs": 1000,
    "perSecond": 12,
    "peakPerSecond": 12,
    "approved": 11,
    "declined": 1,
    "totals": [
      {
        "code": "00",
        "meaning": "approved",
        "count": 11
      },
      {
        "code": "25",
        "meaning": "original transaction not found",
        "count": 1
      }
    ],
    "channels": [
      {
        "channel": "batch",
        "operation": "tap",
        "code": "00",
        "meaning": "approved",
        "count": 2
      },
      {
        "channel": "http",
        "operation": "medical-cancel",
        "code": "00",
        "meaning": "approved",
        "count": 1
      }
    ],
    "samples": [
      {
        "at": "2026-12-01T05:58:04.039Z",
        "total": 0,
        "byCode": {}
      },
      {
        "at": "2026-12-01T05:58:05.042Z",
        "total": 0,
        "byCode": {}
      }
    ]
  },
  "GET /v1/admin/console/ridership": {
    "businessDate": "2026-12-01",
    "from": "2026-11-30T20:00:00.000Z",
    "to": "2026-12-01T20:00:00.000Z",
    "source": "taps",
    "cellMin": 5,
    "byRouteHour": [
      {
        "route": "B2",
        "hour": 13,
        "count": null,
        "suppressed": true
      },
      {
        "route": "B906",
        "hour": 13,
        "count": null,
        "suppressed": true
      }
    ],
    "routes": [
      {
        "route": "B2",
        "total": null
      },
      {
        "route": "B906",
        "total": null
      }
    ],
    "od": [],
    "stations": []
  },
  "GET /v1/admin/console/jobs": {
    "available": true,
    "columns": [
      "job_id",
      "name"
    ],
    "runs": [
      {
        "name": "trial-balance",
        "error": null,
        "rerun": false,
        "job_id": "trial-balance@2026-12-01",
        "result": null,
        "status": "active",
        "attempts": 1,
        "progress": 0,
        "queued_at": "2026-12-01T05:58:06.336988+00:00",
        "started_at": "2026-12-01T05:58:06.405363+00:00",
        "finished_at": null,
        "business_date": "2026-12-01"
      }
    ]
  },
  "GET /v1/admin/console/clearing": {
    "businessDate": "2026-12-01",
    "fileName": null,
    "download": null,
    "rows": [],
    "total": null,
    "truncated": false
  },
  "GET /v1/admin/reports/{fileName}": {
    "type": "about:blank",
    "title": "not found",
    "status": 404,
    "code": "12",
    "detail": "no report file clearing-2026-11-30.csv"
  },
  "GET /v1/admin/console/drift": {
    "at": "2026-12-01T05:58:06.447Z",
    "sampled": 4,
    "matched": 4,
    "inFlight": 0,
    "ok": true,
    "drifted": []
  },
  "POST /v1/admin/departments": {
    "departmentId": "civil_affairs_demo",
    "apiKey": "ccd_Xk2mP9qRvT7wY3zA5bC8dE1fG4hJ6kL0"
  },
  "POST /v1/registry/people": {
    "personId": "1",
    "created": true,
    "citizenId": null
  },
  "GET /v1/registry/people": {
    "personId": "1",
    "idType": "passport",
    "idNumber": "E12345678",
    "citizenId": null,
    "fields": {
      "sex": "male",
      "name": "Zhang Wei",
      "birthDate": "1990-01-01",
      "lowIncomeSupport": false
    }
  },
  "PUT /v1/registry/people/{personId}/fields": {
    "personId": "1",
    "changed": [
      "lowIncomeSupport"
    ]
  },
  "GET /v1/registry/people/{personId}": {
    "personId": "1",
    "idType": "passport",
    "idNumber": "E12345678",
    "citizenId": null,
    "fields": {
      "sex": "male",
      "name": "Zhang Wei",
      "birthDate": "1990-01-01",
      "lowIncomeSupport": true
    }
  },
  "GET /v1/registry/people/{personId}/history": {
    "personId": "1",
    "items": [
      {
        "changeId": "1",
        "personId": "1",
        "field": "name",
        "oldValue": null,
        "newValue": "Zhang Wei",
        "departmentId": "civil_affairs_demo",
        "reason": "first registration",
        "sourceDocument": "passport copy",
        "changedAt": "2026-12-01T05:58:06.459Z"
      },
      {
        "changeId": "2",
        "personId": "1",
        "field": "sex",
        "oldValue": null,
        "newValue": "male",
        "departmentId": "civil_affairs_demo",
        "reason": "first registration",
        "sourceDocument": "passport copy",
        "changedAt": "2026-12-01T05:58:06.459Z"
      }
    ]
  },
  "GET /v1/registry/changes": {
    "items": [
      {
        "changeId": "1",
        "personId": "1",
        "field": "name",
        "oldValue": null,
        "newValue": "Zhang Wei",
        "departmentId": "civil_affairs_demo",
        "reason": "first registration",
        "sourceDocument": "passport copy",
        "changedAt": "2026-12-01T05:58:06.459Z"
      },
      {
        "changeId": "2",
        "personId": "1",
        "field": "sex",
        "oldValue": null,
        "newValue": "male",
        "departmentId": "civil_affairs_demo",
        "reason": "first registration",
        "sourceDocument": "passport copy",
        "changedAt": "2026-12-01T05:58:06.459Z"
      }
    ],
    "nextCursor": "5"
  },
  "GET /v1/admin/audit": {
    "items": [
      {
        "auditId": "1",
        "at": "2026-12-01T05:58:06.459Z",
        "departmentId": "civil_affairs_demo",
        "action": "create",
        "personId": "1",
        "fields": [
          "name",
          "sex"
        ],
        "outcome": "ok",
        "detail": null
      },
      {
        "auditId": "2",
        "at": "2026-12-01T05:58:06.483Z",
        "departmentId": "civil_affairs_demo",
        "action": "lookup",
        "personId": "1",
        "fields": [
          "sex",
          "name"
        ],
        "outcome": "ok",
        "detail": null
      }
    ],
    "nextCursor": "6"
  },
  "GET /v1/stats/{table}": {
    "table": "ridership",
    "period": "2026-12-01",
    "columns": [
      "district",
      "hour"
    ],
    "rows": [],
    "rule": {
      "peopleMin": 5,
      "peopleNoise": [
        -2,
        -1
      ],
      "measureNoise": "uniform in ± the largest single-person contribution of the cell, seeded by the cell key",
      "fenRounding": "fen sums rounded to whole yuan after noise"
    }
  },
  "POST /v1/admin/fare-sandbox": {
    "jobId": "a801ef9e-79ce-4568-9325-6de12bae5d46"
  },
  "GET /v1/admin/fare-sandbox/{jobId}": {
    "jobId": "a801ef9e-79ce-4568-9325-6de12bae5d46",
    "businessDate": "2026-12-01",
    "state": "queued",
    "progress": 0
  }
};
