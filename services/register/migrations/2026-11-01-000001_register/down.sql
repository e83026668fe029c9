DROP TABLE practice_memberships;
DROP TABLE therapists;
DROP TABLE practice_locations;
DROP TABLE practices;
DROP TABLE api_clients;
